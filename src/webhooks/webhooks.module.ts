import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { StoreModule } from '../store/store.module';
import { WebhookAttempt } from './webhook-attempt.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WebhookEvent } from './webhook-event.entity';
import { WebhooksAdminController } from './webhooks-admin.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Endpoints, their admin API and the outbox's repository; the command line uses this much. */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookEndpoint, WebhookEvent, WebhookDelivery, WebhookAttempt]), AuditModule],
  controllers: [WebhooksAdminController],
  providers: [WebhooksService, WebhooksRepository],
  exports: [WebhooksService, WebhooksRepository],
})
export class WebhooksModule {}

/** The server's background delivery; not for the command line. */
@Module({
  imports: [WebhooksModule, StoreModule],
  providers: [WebhookDeliveryWorker],
  exports: [WebhookDeliveryWorker],
})
export class WebhookDeliveryModule {}
