// Minimal types for npm:ws (its own package ships none); only what lib/ws.ts uses.
declare class WebSocketClient {
  constructor(url: string, options?: { headers?: Record<string, string>; perMessageDeflate?: boolean });
}
export default WebSocketClient;
