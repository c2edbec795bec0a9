/**
 * In-memory storage for oidc-provider models (sessions, interactions, codes,
 * grants). One instance per provider, unlike the package's quick-start adapter
 * whose store is module-global; entries expire with the TTL the provider asks for.
 */
type Payload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string; consumed?: number };

interface Entry {
  payload: Payload;
  expiresAt?: number;
}

export class MemoryStore {
  readonly entries = new Map<string, Entry>();
  readonly byUserCode = new Map<string, string>();
  readonly byUid = new Map<string, string>();
  readonly byGrant = new Map<string, Set<string>>();

  adapterFor(model: string): MemoryAdapter {
    return new MemoryAdapter(this, model);
  }
}

export class MemoryAdapter {
  constructor(
    private readonly store: MemoryStore,
    private readonly model: string,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    this.store.entries.set(key, { payload: structuredClone(payload), expiresAt });
    if (payload.userCode) this.store.byUserCode.set(payload.userCode, id);
    if (payload.uid) this.store.byUid.set(payload.uid, id);
    if (payload.grantId) {
      const set = this.store.byGrant.get(payload.grantId) ?? new Set<string>();
      set.add(key);
      this.store.byGrant.set(payload.grantId, set);
    }
  }

  async find(id: string): Promise<Payload | undefined> {
    const key = this.key(id);
    const e = this.store.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt !== undefined && e.expiresAt <= Date.now()) {
      this.store.entries.delete(key);
      return undefined;
    }
    return structuredClone(e.payload);
  }

  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    const id = this.store.byUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    const id = this.store.byUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id: string): Promise<void> {
    const e = this.store.entries.get(this.key(id));
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of this.store.byGrant.get(grantId) ?? []) this.store.entries.delete(key);
    this.store.byGrant.delete(grantId);
  }
}
