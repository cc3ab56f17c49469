/** What every credential source gives the backend client. */
export interface CredentialSource {
  /**
   * The `Authorization` header value for the next upstream request. Token sources answer from
   * their cache and fetch (one fetch at a time) only when the token is missing or near expiry.
   */
  authorization(): Promise<string>;
  /** Forgets a cached token the FHIR server refused, so the next request fetches a new one. */
  invalidate?(): void;
  /** Configured secrets, blanked out of any error text before it is logged. */
  readonly secrets: readonly string[];
}
