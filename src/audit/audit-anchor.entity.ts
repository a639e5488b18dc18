import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Where the chain starts after retention pruned its beginning: the last pruned event's chain
 * index and seal, sealed in turn so that it cannot be moved.
 */
@Entity('audit_anchors')
export class AuditAnchor {
  @PrimaryGeneratedColumn('increment')
  id: number;

  @Column({ name: 'chain_index', type: 'bigint' })
  chainIndex: string;

  @Column({ type: 'varchar', length: 64 })
  seal: string;

  @Column({ name: 'anchor_seal', type: 'varchar', length: 64 })
  anchorSeal: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
