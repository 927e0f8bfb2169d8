import Joi from 'joi';
import { email, password } from './common.schemas';

export const loginBody = Joi.object({ email: email.required(), password: Joi.string().max(1000).required() });

export const registerBody = Joi.object({ email: email.required(), password: password.required() });
