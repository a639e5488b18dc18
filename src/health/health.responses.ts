import { ApiProperty } from '@nestjs/swagger';

export class LivenessResponse {
  @ApiProperty({ enum: ['ok'] })
  readonly status: 'ok';
}

export class DependencyResponse {
  @ApiProperty({
    enum: ['up', 'degraded', 'down'],
    description: 'Other members name the engine, kind or transport and, when down, the error.',
  })
  readonly status: 'up' | 'degraded' | 'down';

  readonly [detail: string]: unknown;
}

export class ReadinessDetails {
  @ApiProperty({ type: () => DependencyResponse })
  readonly database: DependencyResponse;

  @ApiProperty({
    type: () => DependencyResponse,
    description: '`degraded` while the OTP store has fallen back to memory.',
  })
  readonly otpStore: DependencyResponse;

  @ApiProperty({ type: () => DependencyResponse })
  readonly mail: DependencyResponse;
}

export class ReadinessResponse {
  @ApiProperty({ enum: ['ok', 'degraded', 'error'] })
  readonly status: 'ok' | 'degraded' | 'error' | 'shutting_down';

  @ApiProperty({ type: () => ReadinessDetails })
  readonly details: ReadinessDetails;
}
