import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A sealed reference into the chain, only ever inserted. `round`: the last round retention
 * pruned, where verification starts. `start` and `head` belong to the events sealed one by one
 * before rounds: the last pruned one, and the newest.
 */
@Entity('audit_anchors')
export class AuditAnchor {
  @PrimaryGeneratedColumn('increment')
  id: number;

  @Column({ type: 'varchar', length: 8 })
  kind: 'round' | 'start' | 'head';

  @Column({ name: 'chain_index', type: 'bigint' })
  chainIndex: string;

  @Column({ type: 'varchar', length: 64 })
  seal: string;

  @Column({ name: 'anchor_seal', type: 'varchar', length: 64 })
  anchorSeal: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Which SECRET_KEY sealed it; null before key ids were recorded. */
  @Column({ name: 'key_id', type: 'varchar', length: 16, nullable: true })
  keyId: string | null;
}
