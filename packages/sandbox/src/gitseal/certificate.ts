// gitseal's src/x509/certificate.ts, bundled into the sandbox's build (README.md in this folder).
export * from '../../../../src/x509/certificate.js';
