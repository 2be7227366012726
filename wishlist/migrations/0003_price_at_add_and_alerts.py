from django.db import migrations, models


def fill_added_price(apps, schema_editor):
    """Items saved before prices were kept start from today's price: no drop is shown until
    the price falls below it."""
    WishlistItem = apps.get_model("wishlist", "WishlistItem")
    Product = apps.get_model("catalog", "Product")
    WishlistItem.objects.filter(product__isnull=False).update(
        added_price_minor=models.Subquery(
            Product.objects.filter(pk=models.OuterRef("product_id")).values("price_minor")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_store_outbox"),
        ("wishlist", "0002_datetimes_stored_as_by_the_orm"),
    ]

    operations = [
        migrations.AddField(
            model_name="wishlistitem",
            name="added_price_minor",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="wishlistitem",
            name="alert_sent",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="wishlistitem",
            name="alert_wanted",
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name="wishlistitem",
            index=models.Index(
                condition=models.Q(("alert_wanted", True)),
                fields=["product_ref"],
                name="wishlist_item_alert_wanted",
            ),
        ),
        migrations.RunPython(fill_added_price, migrations.RunPython.noop),
    ]
