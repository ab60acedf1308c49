// docs/ holds no code of its own; api/ is the reference `npm run docs` generates.
export default [{ ignores: ['api/'] }];
