// The leave request the widget sends itself as the page goes: byte for byte livekit's own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DisconnectReason, LeaveRequest, LeaveRequest_Action, SignalRequest } from '@livekit/protocol';

import { LEAVE_REQUEST, sendLeaveNow } from '../src/leave-signal.js';

const socket = (readyState) => ({ readyState, sent: [], send(data) { this.sent.push(data); } });
const room = (ws, useJSON = false) => ({ engine: { client: { ws: { ws }, useJSON } } });

describe('the leave request sent as the page goes', () => {
  it('is what livekit-client sends to disconnect', () => {
    const livekits = new SignalRequest({
      message: {
        case: 'leave',
        value: new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED, action: LeaveRequest_Action.DISCONNECT }),
      },
    }).toBinary();
    assert.deepEqual([...LEAVE_REQUEST], [...livekits]);
  });

  it('goes out at once on an open signalling socket, and nowhere otherwise', () => {
    const open = socket(1);
    sendLeaveNow(room(open));
    assert.deepEqual(open.sent, [LEAVE_REQUEST]);
    for (const ws of [socket(0), socket(2), socket(3)]) {
      sendLeaveNow(room(ws));
      assert.deepEqual(ws.sent, []);
    }
    const json = socket(1);
    sendLeaveNow(room(json, true));
    assert.deepEqual(json.sent, [], 'a JSON signalling connection would not read protobuf');
    sendLeaveNow({});
    sendLeaveNow({ engine: undefined });
  });
});
