// What a signature may mean (21 CFR 11.50(a)(3)): a controlled list the API enforces and the
// dashboard offers, so a report never carries a meaning someone typed ("ok!") into an API call.
// Reports signed before the list keep the meaning they were signed with.
export const SIGN_OFF_MEANINGS = ["Reviewed and approved", "Reviewed and approved with corrections"] as const;
export type SignOffMeaning = (typeof SIGN_OFF_MEANINGS)[number];
