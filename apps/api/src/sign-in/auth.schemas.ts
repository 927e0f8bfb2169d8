import Joi from 'joi';
import { email, loginPassword, password, requestShape } from '../http/common.schemas';

export interface Credentials {
  email: string;
  password: string;
}

export const loginBody = requestShape<Credentials>({ email: email.required(), password: loginPassword.required() });

export const registerBody = requestShape<Credentials>({ email: email.required(), password: password.required() });

export interface RefreshTokenBody {
  refresh_token: string;
}

export const refreshTokenBody = requestShape<RefreshTokenBody>({
  refresh_token: Joi.string()
    .max(200)
    .pattern(/^[A-Za-z0-9_-]+$/)
    .required()
    .description('The `refresh_token` of a login or of the previous refresh.')
    .example('q3Xh0m9pB1d2Vx7yZ4kLw8sT6uR5eN0aC3fG1hJ2iK4'),
});
