import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A sealed reference into the chain. `start`: where the chain begins after retention pruned its
 * beginning (the last pruned event). `head`: the newest sealed event, so that deleting the
 * newest events is noticed too.
 */
@Entity('audit_anchors')
export class AuditAnchor {
  @PrimaryGeneratedColumn('increment')
  id: number;

  @Column({ type: 'varchar', length: 8 })
  kind: 'start' | 'head';

  @Column({ name: 'chain_index', type: 'bigint' })
  chainIndex: string;

  @Column({ type: 'varchar', length: 64 })
  seal: string;

  @Column({ name: 'anchor_seal', type: 'varchar', length: 64 })
  anchorSeal: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
