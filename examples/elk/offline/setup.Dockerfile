# The stand-in for the setup image (compose.offline.yaml): bash and curl to run the same setup/entrypoint.sh that
# compose.yaml mounts, FROM python:3.11 (Debian; curl here is the stand-in script in this directory).
FROM python:3.11
ARG ELASTIC_VERSION=8.17.4
LABEL org.tscompose.example.stand-in-for="elasticsearch:${ELASTIC_VERSION} (setup)"
COPY curl /usr/local/bin/curl
ENTRYPOINT ["/entrypoint.sh"]
