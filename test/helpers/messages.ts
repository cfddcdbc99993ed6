/** The sentences that end the node's messages for Easemob's answers: what to change. */
export const FIXES = {
	unknownUser: 'This app has no such user: check the Username (a user ID, not a nickname)',
	unauthorized: "The credential needs fixing, not the fields: check that the app is enabled and that Host is the app's cluster",
	rateLimit: "Easemob's rate limit was hit (5 calls per minute per user, 100 per second per app): try this user again in a minute",
	retryOnNetwork: "Check the credential's Host and that n8n can reach it; a later try may work",
	unconfirmed: 'The change may not have been made: try again',
	keepTrying: "to keep trying for longer, raise Max Attempts or Max Retry Wait in the node's Options",
};
