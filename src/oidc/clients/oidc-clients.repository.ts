import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditRecord, AuditService } from '../../audit/audit.service';
import { OidcClient } from './oidc-client.entity';

/** The registered clients; each change commits together with its audit event. */
@Injectable()
export class OidcClientsRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async insert(client: OidcClient, event: AuditRecord): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(OidcClient, client);
      await this.audit.record([event], manager);
    });
  }

  findById(clientId: string): Promise<OidcClient | null> {
    return this.dataSource.manager.findOneBy(OidcClient, { clientId });
  }

  /** Oldest first: the order they were registered in. */
  list(): Promise<OidcClient[]> {
    return this.dataSource.manager.find(OidcClient, { order: { createdAt: 'ASC', clientId: 'ASC' } });
  }

  /** The client removed, or null when there was none (also when another request removed it first). */
  delete(clientId: string, event: (client: OidcClient) => AuditRecord): Promise<OidcClient | null> {
    return this.dataSource.transaction(async (manager) => {
      const client = await manager.findOneBy(OidcClient, { clientId });
      if (!client) return null;
      const { affected } = await manager.delete(OidcClient, { clientId });
      if (!affected) return null;
      await this.audit.record([event(client)], manager);
      return client;
    });
  }
}
