// gitseal's src/util/pem.ts, bundled into the sandbox's build (README.md in this folder).
export * from '../../../../src/util/pem.js';
