import { SetMetadata } from '@nestjs/common';
import { ServiceScope } from './service-scopes';

export const REQUIRED_ACCESS = 'requiredAccess';

export interface RequiredAccess {
  roles?: string[];
  scopes?: ServiceScope[];
}

/** The route is for principals with any of these roles (users) or scopes (services). */
export const RequireAccess = (access: RequiredAccess) => SetMetadata(REQUIRED_ACCESS, access);
