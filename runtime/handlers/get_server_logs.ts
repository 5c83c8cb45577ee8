export default async function () { throw new Error('todo'); }
