/** An HTTP error, with the imitated API's error body unless one is given. */
export interface FakeStatusReply {
  status: number;
  body?: unknown;
  message?: string;
}

/** Never answers; the connection stays open until the client leaves or the fake closes. */
export interface FakeHangReply {
  hang: true;
}
