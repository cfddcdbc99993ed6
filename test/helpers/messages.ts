/** The sentences that end the node's messages for Easemob's answers: what to change. */
export const FIXES = {
	unknownUser: 'This app has no such user: check the Username (a user ID, not a nickname)',
	unauthorized: "The credential needs fixing, not the fields: check that the app is enabled and that Host is the app's cluster",
	rateLimit: "Easemob's rate limit was hit (5 calls per minute per user, 100 per second per app): try this user again in a minute",
	retryOnNetwork: "Check the credential's Host and that n8n can reach it; a later try may work",
	unconfirmed: 'The change may not have been made: try again',
	keepTrying: "to keep trying for longer, raise Max Attempts or Max Retry Wait in the node's Options",
	roamingOff:
		'The app has no message roaming, so Easemob keeps no history to delete: ask Easemob to enable message roaming for the app',
	moreThan50Ids:
		'Easemob refused more than 50 message IDs in one call, and the node sends at most 50: report this with the IDs',
	historyRateLimit: "Easemob's rate limit was hit (100 calls per second per app): try again in a moment",
};

/** Easemob's answers specific to the message-history calls (easemob-api.md §5). */
export const ROAMING_ERRORS = {
	roamingOff: ['service open exception', 'this appKey not open message roaming'],
	moreThan50: ['param exception', 'delete msg list limit can not greater than 50'],
} as const;
