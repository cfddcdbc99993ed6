import type { FailureHint } from '../transport';

/** Easemob's 404 for a user it does not know, for the operations whose path names a user. */
export const UNKNOWN_USER: FailureHint = {
	status: 404,
	fix: 'This app has no such user: check the Username (a user ID, not a nickname)',
	hint:
		'Easemob has no such user in this app. Check the Username: it is the user ID (not the nickname) of a user of ' +
		'the app named in the credential.',
};
