/** Text from a provider schema, with `backtick` spans shown as inline code. */
export function InlineCode({ text }: { text: string }) {
  const parts = text.split('`');
  // An unbalanced backtick leaves the text as it is.
  if (parts.length % 2 === 0) return <>{text}</>;
  return (
    <>
      {parts.map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}
    </>
  );
}
