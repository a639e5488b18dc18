import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { ProblemException } from '../common/problem.exception';
import { decodeCursor, encodeCursor } from '../common/query';
import { ProfileResponse, UserPageResponse, UserResponse } from './dto/user.response';
import { USERS_CURSOR, UsersQueryDto } from './dto/users-query.dto';
import { ProfileCache } from './profile-cache';
import { FormData, User } from './user.entity';
import { newSignIn, UsersRepository } from './users.repository';

export function userView(user: User): UserResponse {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    createdAt: user.createdAt.toISOString(),
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}

export function profileView(user: User): ProfileResponse {
  return { ...userView(user), lastSubmittedFormData: user.lastSubmittedFormData };
}

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly profiles: ProfileCache,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async listForAdmin(query: UsersQueryDto): Promise<UserPageResponse> {
    const limit = query.limit ?? 50;
    const position = decodeCursor(query.cursor, USERS_CURSOR) as [string, string] | undefined;
    const users = await this.users.page(
      query.email,
      position && { createdAt: new Date(position[0]), id: position[1] },
      limit + 1,
    );
    const items = users.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(userView),
      nextCursor: users.length > limit ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  findById(userId: string): Promise<User | null> {
    return this.profiles.read(userId, () => this.users.findById(userId));
  }

  async getProfile(userId: string): Promise<ProfileResponse> {
    return profileView(await this.existing(this.findById(userId)));
  }

  async updateProfile(
    userId: string,
    changes: { name?: string | null; lastSubmittedFormData?: FormData | null },
  ): Promise<ProfileResponse> {
    const user = await this.existing(this.users.updateProfile(userId, changes, new Date(this.clock.now())));
    await this.profiles.changed(userId);
    return profileView(user);
  }

  /** The user as stored now, bypassing the cache: for a change that must see the latest row. */
  findFresh(userId: string): Promise<User | null> {
    return this.users.findById(userId);
  }

  /** In the deletion's transaction: locks the user's row; false when the user is gone already. */
  lockForDeletion(userId: string, at: Date, manager: EntityManager): Promise<boolean> {
    return this.users.lockWrite(userId, at, manager);
  }

  /** In the deletion's transaction: the user's row, with their sessions and code records. */
  deleteWrite(userId: string, manager: EntityManager): Promise<void> {
    return this.users.deleteWrite(userId, manager);
  }

  /** In the change's transaction: the user's new address ('taken' when another user has it). */
  changeEmailWrite(userId: string, email: string, at: Date, manager: EntityManager) {
    return this.users.changeEmailWrite(userId, email, at, manager);
  }

  /** After the user's row changed or went outside this service: every instance forgets it. */
  forget(userId: string): Promise<void> {
    return this.profiles.changed(userId);
  }

  /** Creates the user on their first sign-in, or stamps the sign-in on the existing one, in the sign-in's transaction. */
  recordSignIn(email: string, at: Date, manager: EntityManager): Promise<User> {
    return this.users.upsertSignIn(email, at, manager);
  }

  /** The row a first sign-in at `at` creates (an existing user keeps all but its sign-in times). */
  newSignIn(email: string, at: Date): User {
    return newSignIn(email, at);
  }

  /** After a sign-in at `at` stamped the user's row; a user it created is in no cache yet. */
  async signedIn(user: User, at: Date): Promise<void> {
    if (user.createdAt.getTime() !== at.getTime()) await this.profiles.changed(user.id);
  }

  private async existing(lookup: Promise<User | null>): Promise<User> {
    const user = await lookup;
    if (!user) throw new ProblemException('unauthorized', 'The user of this token no longer exists.');
    return user;
  }
}
