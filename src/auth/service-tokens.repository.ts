import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, LessThan, Not } from 'typeorm';
import { ServiceToken } from './service-token.entity';

@Injectable()
export class ServiceTokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(token: ServiceToken): Promise<void> {
    await this.dataSource.manager.insert(ServiceToken, token);
  }

  findByJti(jti: string): Promise<ServiceToken | null> {
    return this.dataSource.manager.findOneBy(ServiceToken, { jti });
  }

  /** Marks the token revoked unless it already is; the first revocation's time stays. */
  async revoke(jti: string, at: Date): Promise<void> {
    await this.dataSource.manager.update(ServiceToken, { jti, revokedAt: IsNull() }, { revokedAt: at });
  }

  isRevoked(jti: string): Promise<boolean> {
    return this.dataSource.manager.existsBy(ServiceToken, { jti, revokedAt: Not(IsNull()) });
  }

  /** Deletes up to `batch` tokens past their expiry, revoked or not; returns how many. */
  async deleteExpired(now: Date, batch: number): Promise<number> {
    const rows = await this.dataSource.manager.find(ServiceToken, {
      select: { jti: true },
      where: { expiresAt: LessThan(now) },
      take: batch,
    });
    if (rows.length > 0)
      await this.dataSource.manager.delete(
        ServiceToken,
        rows.map((row) => row.jti),
      );
    return rows.length;
  }
}
