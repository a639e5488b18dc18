import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditRecord } from '../audit/audit.service';
import { ClientContext } from '../common/client-context';
import { Clock } from '../common/clock';
import { Principal } from '../common/principal';
import { ProblemException } from '../common/problem.exception';
import { Secrets } from '../common/secrets';
import { isUuid } from '../common/ids';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { RegisteredWebhookResponse, WebhookDeliveryResponse, WebhookResponse } from './dto/webhook.response';
import { resolvedUrlProblem, webhookUrlProblem, WebhookUrlPolicy } from './webhook-address-policy';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from './webhook-event-types';
import { newWebhookSecret } from './webhook-signature';
import { WebhooksRepository } from './webhooks.repository';

const HISTORY_LIMIT = 100;

/** One refused part of a registration, named as the admin API names it. */
export interface WebhookRegistrationProblem {
  field: string;
  message: string;
}

/** `400 validation_failed` listing each problem; the command line prints them instead. */
export class InvalidWebhookRegistration extends ProblemException {
  constructor(readonly problems: WebhookRegistrationProblem[]) {
    super('validation_failed', `The webhook cannot be registered: ${problems.map((p) => p.message).join('; ')}.`, {
      extras: { errors: problems },
    });
  }
}

/** Who registers or removes an endpoint: an admin through the API, else the operator's command line. */
export interface WebhooksActor {
  principal?: Principal;
  client?: ClientContext;
}

/** The endpoints admins register, and their delivery history. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly repository: WebhooksRepository,
    private readonly secrets: Secrets,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /** The endpoint with its signing secret: shown here once, stored only sealed. */
  async register(request: CreateWebhookDto, actor: WebhooksActor): Promise<RegisteredWebhookResponse> {
    const events = await this.checked(request);
    const secret = newWebhookSecret();
    const endpoint: WebhookEndpoint = {
      id: randomUUID(),
      url: request.url,
      events,
      secretSealed: this.secrets.seal('webhook-secret', secret),
      createdAt: new Date(this.clock.now()),
    };
    await this.repository.insertEndpoint(endpoint, endpointEvent('webhook.created', endpoint, actor));
    return { id: endpoint.id, url: endpoint.url, events, secret };
  }

  async list(): Promise<WebhookResponse[]> {
    return (await this.repository.listEndpoints()).map(webhookView);
  }

  /** The removed endpoint, or null when there is none; its pending deliveries go with it. */
  async remove(id: string, actor: WebhooksActor): Promise<WebhookResponse | null> {
    if (!isUuid(id)) return null;
    const removed = await this.repository.deleteEndpoint(id, (endpoint) =>
      endpointEvent('webhook.removed', endpoint, actor),
    );
    return removed && webhookView(removed);
  }

  /** The endpoint's latest attempts, newest first; null for an unknown endpoint. */
  async deliveries(id: string): Promise<WebhookDeliveryResponse[] | null> {
    if (!isUuid(id) || !(await this.repository.findEndpoint(id))) return null;
    return (await this.repository.attempts(id, HISTORY_LIMIT)).map((attempt) => ({
      eventId: attempt.messageId,
      type: attempt.type,
      attempt: attempt.attempt,
      status: attempt.status,
      error: attempt.error,
      at: attempt.at.toISOString(),
      nextAttemptAt: attempt.nextAttemptAt?.toISOString() ?? null,
    }));
  }

  urlPolicy(): WebhookUrlPolicy {
    return { httpsOnly: this.config.env === 'production', allowPrivate: this.config.webhooks.allowPrivate };
  }

  private async checked(request: CreateWebhookDto): Promise<WebhookEventType[]> {
    const problems: WebhookRegistrationProblem[] = [];
    const urlProblem =
      webhookUrlProblem(request.url, this.urlPolicy()) ??
      (await resolvedUrlProblem(request.url, this.config.webhooks.allowPrivate));
    if (urlProblem) problems.push({ field: 'url', message: `url ${urlProblem}` });
    const events = [...new Set(request.events)];
    if (events.length === 0) problems.push({ field: 'events', message: 'events must name at least one event' });
    events.forEach((event) => {
      if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event))
        problems.push({
          field: `events[${request.events.indexOf(event)}]`,
          message: `events must each be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
        });
    });
    if (problems.length > 0) throw new InvalidWebhookRegistration(problems);
    return events;
  }
}

function webhookView(endpoint: WebhookEndpoint): WebhookResponse {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    createdAt: new Date(endpoint.createdAt).toISOString(),
  };
}

/** Never the secret: who acted, and on which endpoint. */
function endpointEvent(
  type: 'webhook.created' | 'webhook.removed',
  endpoint: WebhookEndpoint,
  { principal, client }: WebhooksActor,
): AuditRecord {
  return {
    type,
    userId: principal?.userId ?? null,
    email: principal?.email ?? null,
    sessionId: principal?.sessionId ?? null,
    client,
    details: { webhookId: endpoint.id, url: endpoint.url, events: endpoint.events, actor: principal?.subject ?? 'cli' },
  };
}
