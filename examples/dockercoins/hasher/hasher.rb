# hasher: answers the SHA-256 (hex) of the body POSTed to / , with a little latency.
require 'digest'
require 'sinatra'
require 'socket'

set :bind, '0.0.0.0'
set :port, 80
set :server, 'webrick'

post '/' do
  sleep 0.1 # the cost of real hashing
  content_type 'text/plain'
  Digest::SHA2.new(256).hexdigest(request.body.read)
end

get '/' do
  "HASHER running on #{Socket.gethostname}\n"
end
