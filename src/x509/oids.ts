/** Object identifiers used by certificate parsing and chain/SCT checks. */
export const OID = {
  // RFC 5280 §4.2.1
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  ekuCodeSigning: '1.3.6.1.5.5.7.3.3',
  ekuTimeStamping: '1.3.6.1.5.5.7.3.8',
  // RFC 6962 §3.3: embedded SCT list; §3.1: precertificate poison
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  ctPoison: '1.3.6.1.4.1.11129.2.4.3',
  // Fulcio (docs/oid-info.md)
  fulcioIssuerV1: '1.3.6.1.4.1.57264.1.1',
  fulcioOtherNameSan: '1.3.6.1.4.1.57264.1.7',
  fulcioIssuerV2: '1.3.6.1.4.1.57264.1.8',
  // algorithms
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ed25519: '1.3.101.112',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
} as const;

/** Names of the deprecated raw-valued GitHub workflow extensions (Fulcio …1.2–1.6). */
export const GITHUB_WORKFLOW_V1 = {
  '1.3.6.1.4.1.57264.1.2': 'githubWorkflowTrigger',
  '1.3.6.1.4.1.57264.1.3': 'githubWorkflowSha',
  '1.3.6.1.4.1.57264.1.4': 'githubWorkflowName',
  '1.3.6.1.4.1.57264.1.5': 'githubWorkflowRepository',
  '1.3.6.1.4.1.57264.1.6': 'githubWorkflowRef',
} as const;

/** Fulcio …1.9–1.24: DER UTF8String values (docs/oid-info.md). */
export const FULCIO_CLAIMS_V2 = {
  '1.3.6.1.4.1.57264.1.9': 'buildSignerURI',
  '1.3.6.1.4.1.57264.1.10': 'buildSignerDigest',
  '1.3.6.1.4.1.57264.1.11': 'runnerEnvironment',
  '1.3.6.1.4.1.57264.1.12': 'sourceRepositoryURI',
  '1.3.6.1.4.1.57264.1.13': 'sourceRepositoryDigest',
  '1.3.6.1.4.1.57264.1.14': 'sourceRepositoryRef',
  '1.3.6.1.4.1.57264.1.15': 'sourceRepositoryIdentifier',
  '1.3.6.1.4.1.57264.1.16': 'sourceRepositoryOwnerURI',
  '1.3.6.1.4.1.57264.1.17': 'sourceRepositoryOwnerIdentifier',
  '1.3.6.1.4.1.57264.1.18': 'buildConfigURI',
  '1.3.6.1.4.1.57264.1.19': 'buildConfigDigest',
  '1.3.6.1.4.1.57264.1.20': 'buildTrigger',
  '1.3.6.1.4.1.57264.1.21': 'runInvocationURI',
  '1.3.6.1.4.1.57264.1.22': 'sourceRepositoryVisibilityAtSigning',
  '1.3.6.1.4.1.57264.1.23': 'deploymentEnvironment',
  '1.3.6.1.4.1.57264.1.24': 'tokenSubject',
} as const;
