// gitseal's src/errors.ts, bundled into the sandbox's build (README.md in this folder).
export * from '../../../../src/errors.js';
