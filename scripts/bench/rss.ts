export async function rssBenchmarks() { return []; }
