// placeholder: replaced by the Redis discovery setup
export default function setup() {}
