// One wishlist per shopper. Items keep the product's name, so a deleted product stays listed.
export default {
  name: 'wishlist',
  title: 'Wishlist',
  type: 'document',
  readOnly: true,
  fields: [
    {name: 'userId', title: 'Haat user id', type: 'number'},
    {name: 'version', title: 'Version (grows with every change)', type: 'number'},
    {
      name: 'items',
      title: 'Items',
      type: 'array',
      of: [
        {
          type: 'object',
          name: 'wishlistItem',
          fields: [
            {name: 'product', type: 'reference', to: [{type: 'product'}], weak: true},
            {name: 'productId', type: 'number'},
            {name: 'name', type: 'string'},
            {name: 'slug', type: 'string'},
            {name: 'addedAt', type: 'datetime'},
          ],
        },
      ],
    },
  ],
}
