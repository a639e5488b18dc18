import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerLimitDetail,
  ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { THROTTLER_SKIP } from '@nestjs/throttler/dist/throttler.constants';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { clientAddressOf, clientContextOf } from '../common/client-context';
import { ProblemException } from '../common/problem.exception';

/** Per-IP limits; a refusal is a `rate_limited` problem, audited at most once per key and window. */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly audit: AuditService,
  ) {
    super(options, storage, reflector);
  }

  /**
   * Counts every throttler that applies at once. The library awaits them one after the other, a
   * Redis round trip each; ours are independent per-IP counters with fixed limits, so their
   * increments go out together in one pipelined write.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const checks = this.throttlers
      .filter(
        (throttler) =>
          !this.reflector.getAllAndOverride<boolean>(THROTTLER_SKIP + throttler.name, targets) &&
          !throttler.skipIf?.(context),
      )
      .map((throttler) => {
        const ttl = throttler.ttl as number;
        const blockDuration = (throttler.blockDuration as number | undefined) ?? ttl;
        return this.handleRequest({
          context,
          throttler,
          ttl,
          blockDuration,
          limit: throttler.limit as number,
          getTracker: this.commonOptions.getTracker!,
          generateKey: throttler.generateKey!,
        });
      });
    return (await Promise.all(checks)).every(Boolean);
  }

  /** Keyed by the address the audit trail records (IPv6 grouped by the library's subnet prefix). */
  protected override getTracker(request: FastifyRequest): Promise<string> {
    return super.getTracker({ ip: clientAddressOf(request) });
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const client = clientContextOf(context.switchToHttp().getRequest<FastifyRequest>());
    const scope = detail.key.split(':')[0];
    await this.audit.recordSampled(`${detail.key}`, detail.ttl, {
      type: 'rate_limit.hit',
      client,
      details: {
        scope,
        limit: detail.limit,
        windowSeconds: detail.ttl / 1000,
        retryAfterSeconds: detail.timeToBlockExpire,
      },
    });
    throw new ProblemException('rate_limited', 'Too many requests from this client; try again later.', {
      retryAfterSeconds: detail.timeToBlockExpire,
    });
  }
}
