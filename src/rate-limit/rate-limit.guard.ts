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
