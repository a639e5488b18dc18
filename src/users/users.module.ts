import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from './user.entity';
import { ChangeFeed } from '../store/change-feed';
import { StoreModule } from '../store/store.module';
import { ProfileCache } from './profile-cache';
import { UsersAdminController } from './users-admin.controller';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User]), StoreModule],
  controllers: [UsersController, UsersAdminController],
  providers: [
    UsersService,
    UsersRepository,
    { provide: ProfileCache, inject: [ChangeFeed], useFactory: (feed: ChangeFeed) => new ProfileCache(feed) },
  ],
  exports: [UsersService],
})
export class UsersModule {}
