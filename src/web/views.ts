import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';

const VIEWS_DIR = join(__dirname, 'views');

/** The pages' Handlebars templates, compiled once; values are HTML-escaped. */
@Injectable()
export class Views {
  private readonly layout = Handlebars.compile(readFileSync(join(VIEWS_DIR, 'layout.hbs'), 'utf8'), { strict: false });
  private readonly pages = new Map(
    readdirSync(VIEWS_DIR)
      .filter((file) => file.endsWith('.hbs') && file !== 'layout.hbs')
      .map((file) => [file.replace(/\.hbs$/, ''), Handlebars.compile(readFileSync(join(VIEWS_DIR, file), 'utf8'))]),
  );

  render(page: string, title: string, context: Record<string, unknown>): string {
    const template = this.pages.get(page);
    if (!template) throw new Error(`no view named ${page}`);
    return this.layout({ title, continueTo: context.continueTo, body: template(context) });
  }
}
