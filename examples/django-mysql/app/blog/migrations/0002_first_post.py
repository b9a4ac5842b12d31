"""A data migration: the blog starts with one post, written by `migrate`."""
from django.db import migrations

TITLE = "Hello from MariaDB"
BODY = "This first post was written into the database by migration 0002 (the one-shot migrate service)."


def seed(apps, schema_editor):
    Post = apps.get_model("blog", "Post")
    Post.objects.using(schema_editor.connection.alias).create(title=TITLE, body=BODY)


def unseed(apps, schema_editor):
    Post = apps.get_model("blog", "Post")
    Post.objects.using(schema_editor.connection.alias).filter(title=TITLE).delete()


class Migration(migrations.Migration):
    dependencies = [("blog", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
