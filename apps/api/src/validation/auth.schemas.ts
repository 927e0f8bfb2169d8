import { email, loginPassword, password, requestShape } from './common.schemas';

export interface Credentials {
  email: string;
  password: string;
}

export const loginBody = requestShape<Credentials>({ email: email.required(), password: loginPassword.required() });

export const registerBody = requestShape<Credentials>({ email: email.required(), password: password.required() });
