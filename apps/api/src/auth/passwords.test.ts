import { describe, expect, it } from "vitest";
import { assertPasswordPolicy, historyAfterChange, PASSWORD_HISTORY } from "./passwords.ts";

const refused = (password: string, owner = {}) => expect(() => assertPasswordPolicy(password, owner));

describe("the password policy", () => {
  it("takes a long phrase of the owner's own", () => {
    expect(() => assertPasswordPolicy("correct horse battery", { login: "hana.smith", displayName: "Hana Smith" })).not.toThrow();
  });

  it("refuses common words dressed in digits and symbols, and digits alone", () => {
    for (const pw of ["Password123!", "Welcome2026!!", "qwertyuiop1", "!!Hospital2026", "12345678901", "27/11/2026 9:12"]) refused(pw).toThrow(/too easy to guess/);
  });

  it("refuses a password of fewer than 4 different characters", () => {
    for (const pw of ["aaaaaaaaaaaa", "abababababab", "zzz zzz zzz zzz"]) refused(pw).toThrow(/too repetitive/);
  });

  it("refuses the owner's login or a part of their name inside it", () => {
    refused("hana.smith-2026!", { login: "hana.smith" }).toThrow(/your login/);
    refused("HANA.SMITH is me", { login: "hana.smith" }).toThrow(/your login/);
    refused("my friend Smith here", { displayName: "Dr. Hana Smith" }).toThrow(/your name/);
  });

  it("looks for whole words of the login and name, not any run of letters in them", () => {
    expect(() => assertPasswordPolicy("deep sleep at night", { login: "lee", displayName: "Mark Lee" })).not.toThrow();
    expect(() => assertPasswordPolicy("my database of the market", { login: "dana", displayName: "Dana Data Scientist" })).not.toThrow();
    expect(() => assertPasswordPolicy("my friend Smithers", { displayName: "Dr. Hana Smith" })).not.toThrow();
    // A long run of random digits is not a date or a phone number.
    expect(() => assertPasswordPolicy("48213976054128379")).not.toThrow();
  });

  it("keeps the previous passwords newest first, and only so many", () => {
    let history: string[] = [];
    for (let i = 1; i <= PASSWORD_HISTORY + 2; i++) history = historyAfterChange(`h${i}`, history);
    expect(history).toEqual(Array.from({ length: PASSWORD_HISTORY }, (_, i) => `h${PASSWORD_HISTORY + 2 - i}`));
  });
});
