// gitseal's src/util/canonical-json.ts, bundled into the sandbox's build (README.md in this folder).
export * from '../../../../src/util/canonical-json.js';
