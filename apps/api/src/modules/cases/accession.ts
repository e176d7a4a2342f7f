/**
 * What an accession may be, shared with the dashboard's form (an HTML `pattern`, which the browser
 * anchors itself): pseudonymous lab ids only; restricting the alphabet keeps names out of them.
 * One source, so the form never blocks an id the API takes, nor lets through one it refuses.
 */
export const ACCESSION_PATTERN = "[A-Za-z0-9][A-Za-z0-9._\\-]{1,39}";
export const ACCESSION_RULE = "2-40 letters, digits, dot, dash or underscore, starting with a letter or digit";
