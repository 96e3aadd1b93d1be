import { Avatar } from './avatar';

export default function Page() {
  return (
    <main>
      <h1>heygen-avatar in Next.js</h1>
      <Avatar />
    </main>
  );
}
