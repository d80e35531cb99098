let acc = 0;
for (let i = 0; i < 300000000; i++) acc = (acc * 31 + i) % 1000003;
console.log(String(acc));
