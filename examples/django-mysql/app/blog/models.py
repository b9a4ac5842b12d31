"""The blog's one table: posts, newest first."""
from django.db import models


class Post(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def as_dict(self):
        return {"id": self.id, "title": self.title, "body": self.body, "created": self.created.isoformat()}

    def __str__(self):
        return self.title
