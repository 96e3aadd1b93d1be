/** @type {import('next').NextConfig} */
export default {
  // The broker is server code for Node (node:http, node:net): load it from node_modules as it is.
  serverExternalPackages: ['heygen-avatar'],
};
