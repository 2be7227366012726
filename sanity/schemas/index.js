// Add to your Sanity Studio's sanity.config.js:  schema: {types: schemaTypes}
import product from './product'
import cart from './cart'
import wishlist from './wishlist'

export const schemaTypes = [product, cart, wishlist]
