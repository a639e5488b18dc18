import { Injectable } from '@nestjs/common';
import { isUuid } from '../common/ids';
import { CreateWebhookDto } from '../webhooks/dto/create-webhook.dto';
import { WebhookEventType } from '../webhooks/webhook-event-types';
import { InvalidWebhookRegistration, WebhooksService } from '../webhooks/webhooks.service';
import { CommandError, parseFlags, UsageError } from './command-line';

export type WebhookCommand =
  { action: 'add'; registration: CreateWebhookDto } | { action: 'list' } | { action: 'remove'; id: string };

/** The arguments of `webhook add --url URL --events a,b`, `webhook list` and `webhook remove ID`. */
export function parseWebhookArguments(argv: string[]): WebhookCommand {
  const [action, ...rest] = argv;
  switch (action) {
    case 'add': {
      const flags = parseFlags(rest, ['url', 'events']);
      if (!flags.url) throw new UsageError('--url is required');
      if (!flags.events)
        throw new UsageError('--events is required: a comma-separated list such as user.created,session.revoked');
      const events = flags.events
        .split(',')
        .map((event) => event.trim())
        .filter(Boolean) as WebhookEventType[];
      return { action, registration: { url: flags.url, events } };
    }
    case 'list':
      if (rest.length > 0) throw new UsageError('webhook list takes no arguments');
      return { action };
    case 'remove':
      if (rest.length !== 1) throw new UsageError('webhook remove takes one argument: the webhook id');
      if (!isUuid(rest[0])) throw new UsageError('ID must be a webhook id as `webhook add` printed it');
      return { action, id: rest[0] };
    default:
      throw new UsageError('webhook takes a subcommand: add, list or remove');
  }
}

/** `webhook …`: registers, lists and removes webhook endpoints through the service the admin API uses. */
@Injectable()
export class WebhookCommands {
  constructor(private readonly webhooks: WebhooksService) {}

  async run(command: WebhookCommand): Promise<string> {
    switch (command.action) {
      case 'add':
        return this.add(command.registration);
      case 'list':
        return JSON.stringify(await this.webhooks.list(), null, 2);
      case 'remove': {
        const removed = await this.webhooks.remove(command.id, {});
        if (!removed) throw new CommandError(`no webhook has id ${command.id}`);
        return `removed webhook ${removed.id} (${removed.url})`;
      }
    }
  }

  /** `{"id", "url", "events", "secret"}`: the secret shown this once. */
  private async add(registration: CreateWebhookDto): Promise<string> {
    try {
      return JSON.stringify(await this.webhooks.register(registration, {}));
    } catch (error) {
      if (error instanceof InvalidWebhookRegistration)
        throw new CommandError(
          `cannot register the webhook: ${error.problems.map((problem) => problem.message.replace(/^url/, '--url').replace(/^events/, '--events')).join('; ')}`,
        );
      throw error;
    }
  }
}
