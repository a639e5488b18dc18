import { Controller, Get, Res } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/principal';
import { StoreStatus } from '../store/store-status';
import { Metrics } from './metrics';

/** GET /metrics: Prometheus text format. Keep it off the public internet (proxy or firewall). */
@Public()
@SkipThrottle({ global: true })
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    private readonly store: StoreStatus,
  ) {}

  @Get()
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    this.metrics.storeFallback.set(this.store.state === 'up' ? 0 : 1);
    reply
      .header('content-type', this.metrics.registry.contentType)
      .header('cache-control', 'no-store')
      .send(await this.metrics.registry.metrics());
  }
}
