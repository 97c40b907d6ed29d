// Hanging up tells the server at once. livekit's room.disconnect() sends its leave request only after
// awaiting a lock, its request queue and a stream writer: promise jobs that a page being left may never run
// (Firefox runs none of them after pagehide; Chromium loses some under load). The server then sees a dropped
// connection and ends the call only at its departure timeout, not as the visitor's hang-up. So the same
// request goes out first, synchronously, on livekit's own signalling socket; room.disconnect() follows as
// before (its second leave finds the server gone, which is harmless).

// livekit.SignalRequest{leave (field 8): LeaveRequest{reason (field 2): CLIENT_INITIATED (1)}} in protobuf's
// wire format (action DISCONNECT is 0, the default, so it is not written); livekit's own encoding of the
// same message is compared with this in test/leave-signal.test.js.
export const LEAVE_REQUEST = Uint8Array.of(0x42, 0x02, 0x10, 0x01);

/**
 * Sends the leave request now on the room's signalling WebSocket, if it is open. The socket is livekit's
 * internal (`engine.client.ws.ws`, the binary protocol the widget uses); if that changes this does nothing,
 * and the navigation browser tests fail.
 *
 * @param {any} room a livekit-client Room
 */
export function sendLeaveNow(room) {
  const socket = room?.engine?.client?.ws?.ws;
  if (socket?.readyState === 1 && !room.engine.client.useJSON) socket.send(LEAVE_REQUEST);
}
