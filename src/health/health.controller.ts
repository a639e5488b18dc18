import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/principal';
import { LivenessResponse, ReadinessResponse } from './health.responses';
import { HealthService } from './health.service';

@ApiTags('Operations')
@Public()
@SkipThrottle({ global: true })
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Liveness: 200 while the process runs' })
  @ApiOkResponse({ type: LivenessResponse })
  live(): LivenessResponse {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Readiness of each dependency' })
  @ApiOkResponse({
    type: ReadinessResponse,
    description: 'Ready; `degraded` while mail is down or the OTP store has fallen back to memory.',
  })
  @ApiServiceUnavailableResponse({ type: ReadinessResponse, description: 'The database or the OTP store is down.' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessResponse> {
    const report = await this.health.readiness();
    reply.status(report.status === 'error' || report.status === 'shutting_down' ? 503 : 200);
    return report;
  }
}
