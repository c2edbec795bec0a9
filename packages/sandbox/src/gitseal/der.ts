// gitseal's src/util/der.ts, bundled into the sandbox's build (README.md in this folder).
export * from '../../../../src/util/der.js';
