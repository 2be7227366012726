// Haat product, with its stock. Stock is changed only by Haat (guarded by ifRevisionID).
export default {
  name: 'product',
  title: 'Product',
  type: 'document',
  fields: [
    {name: 'haatId', title: 'Haat product id', type: 'number', readOnly: true, validation: (r) => r.required().integer().positive()},
    {name: 'name', title: 'Name', type: 'string', validation: (r) => r.required().max(200)},
    {name: 'slug', title: 'Slug', type: 'slug', options: {source: 'name', maxLength: 220}, validation: (r) => r.required()},
    {name: 'priceMinor', title: 'Price (minor units, e.g. paisa)', type: 'number', validation: (r) => r.required().integer().min(0)},
    {name: 'isPublished', title: 'Published', type: 'boolean', initialValue: true},
    {name: 'imageUrl', title: 'Main image URL', type: 'url'},
    {name: 'stock', title: 'Stock', type: 'number', readOnly: true, description: 'Changed by Haat only, with the stock ledger.', validation: (r) => r.required().integer().min(0)},
    {name: 'stockSeq', title: 'Stock change counter', type: 'number', readOnly: true, hidden: true},
  ],
  preview: {select: {title: 'name', subtitle: 'stock'}, prepare: ({title, subtitle}) => ({title, subtitle: `${subtitle} in stock`})},
}
