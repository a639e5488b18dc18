/**
 * Sign-in sessions revoked before their access tokens expire. Checked on every authenticated
 * request, so it must be cheap: one Redis round trip, or a map lookup.
 */
export abstract class RevocationList {
  /** Remembers the session as revoked until `untilMs` (epoch ms), when its last token expires. */
  abstract revoke(sessionId: string, untilMs: number, now: number): Promise<void>;

  abstract isRevoked(sessionId: string, now: number): Promise<boolean>;
}

export class MemoryRevocationList extends RevocationList {
  private readonly revoked = new Map<string, number>();

  async revoke(sessionId: string, untilMs: number, now: number): Promise<void> {
    this.revoked.set(sessionId, untilMs);
    // Entries are added in time order, so expired ones gather at the front.
    for (const [id, until] of this.revoked) {
      if (until > now) break;
      this.revoked.delete(id);
    }
  }

  async isRevoked(sessionId: string, now: number): Promise<boolean> {
    const until = this.revoked.get(sessionId);
    return until !== undefined && until > now;
  }
}
