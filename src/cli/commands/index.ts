/**
 * The explicit command map oclif loads (package.json `oclif.commands`:
 * strategy "explicit", target dist/cli/run.js, identifier "commands").
 * Ids use ':' between words; people type spaces ("gitseal agent start").
 */
import type { Command } from '@oclif/core';
import { AgentStart, AgentStatus, AgentStop } from './agent.js';
import Completion from './completion.js';
import Doctor from './doctor.js';
import Init from './init.js';
import Initialize from './initialize.js';
import { Login, Logout, Whoami } from './session.js';
import Show from './show.js';
import Verify from './verify.js';
import VerifyTag from './verify-tag.js';
import Version from './version.js';

export const commands: Record<string, Command.Class> = {
  init: Init,
  initialize: Initialize,
  doctor: Doctor,
  version: Version,
  login: Login,
  logout: Logout,
  whoami: Whoami,
  verify: Verify,
  'verify-tag': VerifyTag,
  show: Show,
  'agent:start': AgentStart,
  'agent:stop': AgentStop,
  'agent:status': AgentStatus,
  completion: Completion,
};
