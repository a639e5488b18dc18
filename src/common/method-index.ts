import FindMyWay, { HTTPMethod } from 'find-my-way';

/** Which methods each route answers, so a known path with the wrong method gets 405, not 404. */
export class MethodIndex {
  private readonly router = FindMyWay({ ignoreTrailingSlash: true });
  private readonly methods = new Set<HTTPMethod>();

  add(method: string | string[], url: string): void {
    for (const one of [method].flat() as HTTPMethod[]) {
      if (one === 'HEAD' || this.router.hasRoute(one, url)) continue;
      this.router.on(one, url, () => undefined);
      this.methods.add(one);
    }
  }

  allowedMethods(path: string): string[] {
    return [...this.methods].filter((method) => this.router.find(method, path) !== null).sort();
  }
}
